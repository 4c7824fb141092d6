// Times each pass of Cohort's Winograd F(4x4, 3x3) (Sources/CWinograd) on one convolution shape,
// batch 64, 3x3 stride 1, with the 36 products on OpenBLAS's cblas_sgemm, against three sgemms of
// the direct convolution's im2col product (forward, and the backward's two at the same size).
// Not built by any target. From the checkout:
//   gcc -O3 -ffp-contract=off -ISources/CWinograd/include -ISources/CCPU/include docs/probes/winograd_passes.c \
//       Sources/CWinograd/winograd_kernels.c Sources/CCPU/cohort_cpu.c -lopenblas -o /tmp/winograd_passes
//   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell /tmp/winograd_passes CHANNELS SIZE OUT_CHANNELS [PADDING=1]
#include "winograd_kernels.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static float*buf(long n){float*p=aligned_alloc(64,(n*4+63)/64*64);memset(p,0,n*4);for(long i=0;i<n;i++)p[i]=(float)((i*7919)%1000)/1000.f-0.5f;return p;}
int main(int argc,char**argv){
  int N=64,C=atoi(argv[1]),H=atoi(argv[2]),K=atoi(argv[3]),pad=argc>4?atoi(argv[4]):1; cohort_wino_shape s; cohort_wino_shape_make(N,C,H,H,pad,K,&s);
  long P=(long)N*s.tiles_h*s.tiles_w; cohort_wino_path path=cohort_wino_best_path();
  float*x=buf((long)N*C*H*H),*w=buf((long)K*C*9),*y=buf((long)N*K*s.out_h*s.out_w),*dx=buf((long)N*C*H*H),*dw=buf((long)K*C*9);
  float*xp=buf(cohort_wino_xp_count(&s)),*V=buf(cohort_wino_v_count(&s)),*U=buf(cohort_wino_u_count(&s)),*M=buf(cohort_wino_m_count(&s)),*dU=buf(cohort_wino_u_count(&s));
  double t[9]={0}; int reps=20;
  for(int r=0;r<reps;r++){double a=now();
    cohort_wino_filter(&s,w,U,path); double b=now();
    cohort_wino_input(&s,x,xp,V,path); double c=now();
    for(int i=0;i<36;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,P,s.kp,s.cp,1,V+i*P*s.cp,s.cp,U+i*s.cp*s.kp,s.kp,0,M+i*P*s.kp,s.kp); double d=now();
    cohort_wino_output(&s,M,NULL,y,path); double e=now();
    cohort_wino_output_grad(&s,y,M,path); double f=now();
    for(int i=0;i<36;i++) cblas_sgemm(CblasRowMajor,CblasTrans,CblasNoTrans,s.cp,s.kp,P,1,V+i*P*s.cp,s.cp,M+i*P*s.kp,s.kp,0,dU+i*s.cp*s.kp,s.kp); double g=now();
    cohort_wino_filter_grad(&s,dU,dw,path); double h=now();
    for(int i=0;i<36;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,P,s.cp,s.kp,1,M+i*P*s.kp,s.kp,U+i*s.cp*s.kp,s.kp,0,V+i*P*s.cp,s.cp); double k=now();
    cohort_wino_input_grad(&s,V,xp,dx,path); double l=now();
    if(r>=2){t[0]+=b-a;t[1]+=c-b;t[2]+=d-c;t[3]+=e-d;t[4]+=f-e;t[5]+=g-f;t[6]+=h-g;t[7]+=k-h;t[8]+=l-k;}
  }
  const char*names[]={"filter","input","gemm fwd","output","output_grad","gemm dU","filter_grad","gemm dV","input_grad"};
  double tot=0; for(int i=0;i<9;i++){t[i]/=reps-2;tot+=t[i];printf("%-12s %7.3f ms\n",names[i],t[i]*1e3);}
  double direct=3.0*N*K*C*9.0*s.out_h*s.out_w*2; // fwd+2 bwd flops
  double a=now(); long m=K,n=(long)N*s.out_h*s.out_w,kk=C*9; float*A=buf(m*kk),*B=buf(kk*n),*Cc=buf(m*n);
  for(int r=0;r<10;r++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,n,kk,1,A,kk,B,n,0,Cc,n); double sg=(now()-a)/10;
  printf("total %.3f ms; direct-equivalent sgemm (x3) %.3f ms\n",tot*1e3,3*sg*1e3);
}
